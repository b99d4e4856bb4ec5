"""Event envelope and payload models: the facts every part of watchfloor appends and reads."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

SCHEMA_VERSION = 1
"""Version of every payload model below; bumped when a payload changes incompatibly."""

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# The years a document may be dated in (the input contract checks them on the way in, schemas/inputs.py).
# A document read back from a log that holds one from outside them (a store of an older release, an archive
# of a topic other producers write to) is refused as invalid: the engine's windows and reports near
# datetime's year-1 and year-9999 edges do not fit, and a refusal is the same in a live run and a backtest.
EARLIEST = datetime(1800, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)  # exclusive
ACCEPTED_YEARS = "the accepted years 1800 to 2999 (UTC)"


class EventType(StrEnum):
    """The kinds of event in the log. Inputs first, then what processing derives from them."""

    NEWS_ARTICLE = "news.article"
    OFFICIAL_STATEMENT = "official.statement"
    SIGNAL = "signal"
    DETECTION = "detection"
    ALERT = "alert"
    DELIVERY = "delivery"
    DEAD_LETTER = "dead_letter"
    RETRACTION = "detection.retracted"  # an alert a late report has withdrawn (see Retraction)
    CAUGHT_UP = "caught_up"  # a producer delivered everything its sources had (see CaughtUp)
    WATERMARK = "watermark"  # control event on Kafka topics (see Watermark); never stored
    CORRECTION = "correction"  # control event on the correlate topic (see Correction); never stored


DOCUMENT_TYPES = frozenset({EventType.NEWS_ARTICLE.value, EventType.OFFICIAL_STATEMENT.value})

# A feed item edited in place is read again as an *edition* (producers/publish.py): a document of its own whose id is
# the item's, EDITION_MARK and EDITION_HASH_CHARS hex digits of a hash of its new text. Stores count an item's
# editions by that form (ports.EditionCount), so it is part of the log's contract.
EDITION_MARK = "#edition-"
EDITION_HASH_CHARS = 16
DEFAULT_MAX_EDITIONS = 5
"""Editions kept of one feed item unless its source says otherwise (config `max_editions`, producers/publish.py)."""


def edition_range(doc_id: str) -> tuple[str, str, int]:
    """The ids the editions of `doc_id` can have: (lowest, highest, length), in code point order (which is UTF-8
    byte order): an id is one of them iff it lies between the two and has that length."""
    stem = doc_id + EDITION_MARK
    return stem + "0" * EDITION_HASH_CHARS, stem + "f" * EDITION_HASH_CHARS, len(stem) + EDITION_HASH_CHARS


def edition_of(event_id: str) -> str | None:
    """The item an edition's id names (`GUID` of `GUID#edition-HASH`), or None for an id of no edition."""
    stem, mark, digest = event_id.rpartition(EDITION_MARK)
    if not mark or len(digest) != EDITION_HASH_CHARS or digest.strip("0123456789abcdef"):
        return None
    return stem


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SourceRef(_Frozen):
    """Who published a document."""

    name: str = Field(min_length=1)
    url: str | None = None
    kind: str | None = None  # e.g. "newspaper", "state-media", "feed"
    # The configured source (its url or path, as configured) this document counts as when corroboration counts
    # distinct sources: set by the producer, never by the input (the contract refuses it), so a feed is one source
    # whatever name its <title> claims on each poll. None: the name counts (a source declared `aggregator`, whose
    # items carry their own outlet; a JSONL corpus file; events written before this field existed).
    feed: str | None = None


class Issuer(_Frozen):
    """The body that issued an official statement."""

    name: str = Field(min_length=1)
    country: str | None = None  # ISO 3166-1 alpha-3, e.g. "PRK"


# A title that already ends a sentence ("…?", "…!", "….", "…", perhaps before a closing quote or bracket).
_TITLE_ENDS = ".!?\u2026"
_TITLE_CLOSERS = "\"')\u201d\u2019\u00bb "


def joined_text(title: str, body: str) -> str:
    """Title and body as one text, the title its own sentence: a full stop after it unless it ends one already, so a
    title's question keeps its "?" at the end of its sentence ("Is the coup a 'season two'?" not "…?.", which also
    made a yes/no question of a title with a body read asserted: outside trial 44, L2)."""
    if title and body:
        return f"{title}.\n{body}" if title_stop_added(title, body) else f"{title}\n{body}"
    return title or body


def title_stop_added(title: str, body: str) -> bool:
    """Whether joined_text ends the title's sentence with a full stop the title does not have: read so, the
    engine's sentences end as its analysis expects, and quoted, the title is shown as its source has it (trial 46,
    LOW-3: "…Ukraine Invasion." quoted a headline that has no full stop)."""
    if not (title and body):
        return False
    bare = title.rstrip(_TITLE_CLOSERS)
    return not (bool(bare) and bare[-1] in _TITLE_ENDS)


class Document(_Frozen):
    """A news article or an official statement, as accepted by the input contract (DESIGN §4)."""

    id: str
    type: Literal["news.article", "official.statement"]
    published_at: AwareDatetime
    source: SourceRef
    url: str | None = None
    title: str = ""
    body: str = ""
    language: str | None = None
    issuer: Issuer | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("published_at")
    @classmethod
    def _in_accepted_years(cls, value: datetime) -> datetime:
        if not EARLIEST <= value < LATEST:
            raise ValueError(f"{value.isoformat()} is outside {ACCEPTED_YEARS}")
        return value

    @property
    def text(self) -> str:
        """Title and body as one text; the title is its own sentence (joined_text)."""
        return joined_text(self.title, self.body)


Modality = Literal["asserted", "hedged", "future", "conditional", "negated", "recap"]
MODALITIES: tuple[Modality, ...] = ("asserted", "hedged", "future", "conditional", "negated", "recap")


class Signal(_Frozen):
    """A fact extracted from one sentence of one document by a signal definition."""

    id: str  # deterministic: document id + signal name + sentence index
    name: str  # the signal definition's name in the rule pack
    document_id: str
    source: str
    # Its document's `source.feed`: what corroboration counts as its source (None: `source`, the name).
    feed: str | None = None
    url: str | None = None
    published_at: AwareDatetime
    sentence: str
    sentence_index: int
    modality: Modality
    cue: str | None = None  # the words that made the modality, when not asserted
    entities: tuple[str, ...] = ()  # canonical entity ids mentioned in the sentence
    places: tuple[str, ...] = ()  # canonical ids of place entities mentioned
    captures: dict[str, str] = Field(default_factory=dict)  # capture name -> entity id
    # The document's MinHash signature (engine/stories.py), for the signals of detections that count
    # independent sources: syndicated copies of one story count once. None for other signals.
    story: str | None = None
    # Its document had no date of its own: `published_at` is when a poll first saw it (a feed entry marked
    # `metadata.date: "first seen"`, producers/feed_entries.py). Left out of the JSON when false.
    first_seen: bool = Field(default=False, exclude_if=lambda v: not v)


Severity = Literal["low", "medium", "high", "critical"]
SEVERITY_RANK: dict[str, int] = {"low": 0, "medium": 1, "high": 2, "critical": 3}


class Evidence(_Frozen):
    """One signal that contributed to a detection, with enough to cite it."""

    event_id: str
    signal: str
    source: str
    url: str | None = None
    published_at: AwareDatetime
    sentence: str
    modality: Modality = "asserted"
    # The story the report tells, as the engine grouped the detection's reports (engine/evidence.py story_keys):
    # syndicated copies of one wire story under several outlets share it, so a thread counts them once, as the
    # engine's corroboration does. 12 hex digits, a hash of the smallest id of the detection's reports of the story;
    # None for reports without a story signature (rules that count no sources) and detections stored before it.
    story: str | None = None
    # `published_at` is when the report was first seen, as it had no date (Signal.first_seen): shown so (dated_text).
    first_seen: bool = Field(default=False, exclude_if=lambda v: not v)
    # The configured source the report came through (Signal.feed), as a 12-hex-digit hash: what a thread's "N
    # independent sources" counts, as corroboration does (review 13, F6: it counted names, so a renaming feed read
    # "2 independent"). A hash, not the identity: a feed's URL may hold a credential, and an alert goes out. None: it
    # counts by its name (no feed, an aggregator's item, detections stored before). Left out of the JSON when None.
    feed: str | None = Field(default=None, exclude_if=lambda v: v is None)


INPUT_ALERT = "alert:"
"""How `Evidence.signal` of a composed rule's input alert begins (`alert:RULE`: engine/compiled.py ALERT)."""


def input_alert_text(ev: Evidence) -> str | None:
    """What a composed rule's input alert says in its evidence, "alert RULE: TITLE" (its `sentence` is the input
    alert's title, our words), for a message to show unquoted; None for a report, whose sentence is quoted as the
    outlet's words (outside trial 37, M3: the title stood in quotes under the outlet's link, an invented quote)."""
    if not ev.signal.startswith(INPUT_ALERT):
        return None
    return f"alert {ev.signal[len(INPUT_ALERT) :]}: {ev.sentence}"


def evidence_label(ev: Evidence) -> str:
    """The name an evidence line links: the report's source, or for a composed rule's input alert the source of that
    alert's first report, which its link opens, said as such ("The Moscow Times, its first report")."""
    return f"{ev.source}, its first report" if ev.signal.startswith(INPUT_ALERT) else ev.source


def evidence_when(ev: Evidence, when: str, ahead: bool) -> str:
    """An evidence line's time (`when`, formatted): a report's as dated_text says it; a composed rule's input alert's
    is the time that alert fired, said so ("alert fired …"), not the time of the first report its link opens (outside
    trial 84, F2: a chain's alert showed a June article's link beside an October time)."""
    if ev.signal.startswith(INPUT_ALERT):
        return f"alert fired {when}"
    return dated_text(when, ev.first_seen, ahead)


FIRST_SEEN = "first seen"
"""A feed entry's `metadata.date` when it had no date of its own and is dated when first seen (feed_entries.py)."""


def dated_text(when: str, first_seen: bool, ahead: bool = False) -> str:
    """A report's time as a reader is shown it (`when`, already formatted): marked when the publisher gave no date
    and the time is when watchfloor first saw it, so it is not read as the publisher's (`first seen 12:03 UTC
    (undated)`); and when it is dated in the future (`ahead`: dated_ahead), as it was counted at its receive
    time (outside trial 23, M3-6: "2099-10-20 09:00 UTC" above "fired 2026-12-04", unflagged)."""
    if first_seen:
        return f"{FIRST_SEEN} {when} (undated)"
    return f"{when} (dated in the future: counted when received)" if ahead else when


AHEAD_MARGIN = timedelta(hours=1)  # the engine's default skew: a report dated later than this is taken when received


def dated_ahead(published_at: datetime, fired_at: datetime) -> bool:
    """Whether a report an alert cites is dated after the alert fired (beyond the skew): a report dated in the
    future, which the engine takes at its receive time (the alert's own time), the only way one can be."""
    return (published_at - fired_at) > AHEAD_MARGIN  # (a difference: no overflow at the calendar's edge)


def fired_text(when: str, first_seen: bool) -> str:
    """'fired WHEN' for an alert's footer: an undated report's first-seen time is marked after the time, so the
    verb is not followed by another ("fired first seen …", outside trial 10, F4)."""
    return f"fired {when} (first seen, undated)" if first_seen else f"fired {when}"


def fired_first_seen(evidence: Sequence[Evidence], fired_at: datetime) -> bool:
    """Whether a detection's `fired_at` is the first-seen time of an undated report: the report it fired at is one
    (a report of the same time with a date of its own wins)."""
    at = [e.first_seen for e in evidence if e.published_at == fired_at]
    return bool(at) and all(at)


def fired_time_text(when: str, first_seen: bool, ahead: bool) -> str:
    """An alert's fired time as `alerts list` and the status page show it (`when`, formatted): marked as dated_text
    marks an undated report's; and when a report it rests on is dated after it (`ahead`), which happens only when that
    report was dated in the future and counted at its receive time, so the time does not read as the report's own
    (trial 34, L2: Slack marked the report, the list and the page showed the time plainly)."""
    shown = dated_text(when, first_seen)
    return f"{shown} (received: a report it rests on is dated in the future)" if ahead and not first_seen else shown


_E = TypeVar("_E")


def shown_evidence(evidence: Sequence[_E], limit: int, own: int | None = None) -> list[_E]:
    """What an alert shows of its evidence when there is more than `limit`: the pattern's own reports (the
    first `own`; default all) before the corroborating ones after them, and of each, the newest. When its
    own reports alone are more (a busy `count` window), the one that opened the window and the newest:
    what changed since the group's last alert is what a reader needs, not the oldest reports of a long
    story."""
    if len(evidence) <= limit:
        return list(evidence)
    if limit <= 0:
        return []
    own = len(evidence) if own is None else min(own, len(evidence))
    if own >= limit:
        return [evidence[0], *evidence[own - limit + 1 : own]]
    return [*evidence[:own], *evidence[len(evidence) - (limit - own) :]]


def evidence_to_show(evidence: Sequence[_E], total: int, limit: int) -> list[_E]:
    """What a message shows of an alert's evidence: all of it up to `limit`; past that (more held than `limit`, or
    the alert rests on more reports, `total`, than it holds) the first and the newest, as the engine chose them
    (shown_evidence): the report that tipped a count is what a reader needs (outside trial 62, L2: of 7 reports,
    the first 5 were shown and the newest, which made the alert, was one of the "2 more not shown")."""
    if total > len(evidence) or len(evidence) > limit:
        return shown_evidence(evidence, limit)
    return list(evidence)


class Detection(_Frozen):
    """A detection rule fired for one group: the unit that alerts are made of.

    Detections are raised at once, whatever the order reports arrive in. When a late report changes what a
    group's detections are (earlier evidence, an escalation, a sequence it completes), the engine raises the
    detection the group now has with `revises` naming the one it replaces (same rule and group), and withdraws
    an alert with no replacement by a `Retraction`. The alerts that stand are the detections minus those
    revised or retracted (``watchfloor.stream_processors.current.current_alerts``)."""

    id: str  # deterministic alert id: hash of rule, group and evidence
    rule: str
    title: str
    severity: Severity
    tags: tuple[str, ...] = ()
    group: dict[str, str] = Field(default_factory=dict)
    fired_at: AwareDatetime  # event time, never wall-clock time
    confidence: Literal["confirmed", "unconfirmed"] | None = None
    attributes: dict[str, list[str]] = Field(default_factory=dict)  # e.g. {"place": ["KURSK"]}
    evidence: tuple[Evidence, ...] = ()
    description: str = ""
    revises: str | None = None  # id of the alert of this rule and group that this detection replaces
    # 0 when raised in event-time order; n when raised by the n-th change of its group's history (a late report).
    revision: int = Field(default=0, ge=0)
    # How many reports the detection rests on. `evidence` shows at most ten of them (shown_evidence); 0 in
    # detections stored before this was kept, whose evidence is then all there is to count.
    evidence_total: int = Field(default=0, ge=0)
    # What changed the group's history, for a revision not made by a late report: a publisher's correction (or an
    # input detection withdrawn), in words a reader is shown. None: a late report, or not a revision. Left out of
    # the JSON when None, so detections stored before it and those of late reports read and write as before.
    cause: str | None = Field(default=None, exclude_if=lambda v: v is None)
    # A late report's revision whose report and the alerts it changed are all of one time (a feed that stamps every
    # item of a day 12:00): the report was read after them, not dated before them, and now leads the alert because
    # reports of one time are taken in the order of their ids (trial 32, L4: "A late report changed this alert" for
    # a report of the very same time). Left out of the JSON when False, as `cause`.
    same_time: bool = Field(default=False, exclude_if=lambda v: not v)

    @property
    def reports(self) -> int:
        """How many reports the detection rests on, shown or not."""
        return max(self.evidence_total, len(self.evidence))


class Retraction(_Frozen):
    """An alert withdrawn because a late report changed its group's history and nothing replaces it (a
    replacement is a Detection with `revises` instead). `superseded_by` names the group's alert raised by the
    same change within the detection's open period (window or realert) of the withdrawn alert's point, the
    latest at or before it, else the earliest after (its thread); None when the change raised none so near."""

    alert_id: str
    rule: str
    group: dict[str, str] = Field(default_factory=dict)
    reason: str
    superseded_by: str | None = None
    revision: int = Field(ge=1)  # the change of the group's history that withdrew it (see Detection.revision)
    at: AwareDatetime  # event time of the report that caused the change


class Alert(_Frozen):
    """A detection after routing: which channels are to be told about it."""

    id: str  # equals the detection id: deterministic, so deliveries are idempotent
    detection: Detection
    channels: tuple[str, ...]


class Delivery(_Frozen):
    """The outcome of one attempt to send an alert to a channel: `sent`, `failed` (it stays outstanding in the
    delivery ledger and is tried again), `expired` (given up after the maximum age) or `suppressed` (silenced,
    or a revision replaced before it was sent by a later revision of the same alert: `detail` says which)."""

    alert_id: str  # the delivery's key: the alert id (a revision's event id), or a retraction's id
    channel: str
    status: Literal["sent", "failed", "suppressed", "expired"]
    attempts: int = 1
    detail: str = ""  # e.g. the Slack message ts, or the last error
    at: AwareDatetime
    # `sent` by finding the post already in the channel (an earlier attempt had got through), not by posting it;
    # in the payload only when true, so the events of every other delivery are as before
    found: bool = False


class DeadLetter(_Frozen):
    """Input that could not be accepted, kept with the reason and the place it came from."""

    origin: str  # file path, URL or topic
    line: int | None = None  # 1-based line number in the origin, when it has lines
    field: str | None = None  # the offending field, when one is to blame
    reason: str
    raw: str = ""  # the offending input, truncated
    stage: str = "ingest"  # ingest | extract | correlate | event-time | notify


@dataclass(frozen=True, slots=True)
class PassedOver:
    """A document beyond the lateness that no detection reads (`Engine.late_reports`): an engine output that the
    runtimes count (run's line, a backtest's stats, status and /metrics) and never write as a dead letter. A
    backfill's old items are nearly all such, and their letters drowned the late reports that can change an alert
    (outside trial 67, MED-4). Not an event: nothing reads it back."""

    origin: str | None  # where the document was read (Event.origin); None for an origin-less stream
    document_id: str = ""  # "" for a checked input never built (Engine.process_input)


class Watermark(_Frozen):
    """Event-time progress of one upstream Kafka partition (a control event, not a fact).

    Written by producers to every documents partition after each publish, and by the extract agent to the
    signals and correlate topics: upstream partition `partition` has delivered everything published up to
    `time` (epoch seconds; None before its first document). `idle` means it has been caught up and silent
    for a while, so it should stop holding the low watermark back."""

    partition: int = Field(ge=0)
    time: float | None = None
    idle: bool = False


class Said(_Frozen):
    """One thing an edition's text says, as a correction compares it: a signal's name, modality and captures."""

    name: str
    modality: Modality
    captures: dict[str, str] = Field(default_factory=dict)


class Correction(_Frozen):
    """A feed item edited in place (an edition, `document_id`, of `item`), for the partitions that may hold what
    its earlier versions said (a control event of the distributed runtime, sent by the extract agent to every
    correlate partition before the edition's signals; engine/corrections.py). `said`: what its text says; `at`:
    its effective time."""

    document_id: str
    item: str
    source: str
    at: AwareDatetime
    said: tuple[Said, ...] = ()


class CaughtUp(_Frozen):
    """A producer has delivered everything its sources had: each origin in `origins` was read to its end as of
    `at` (the producer's clock, like Event.received_at). Recorded in the log after each poll cycle, it is what
    lets event time move on (docs/architecture.md, "Event time"), so a replay of the log moves it identically."""

    at: AwareDatetime
    origins: tuple[str, ...] = ()


class Event(_Frozen):
    """The envelope: what the log stores. `time` is event time, used by every window.

    `origin` and `received_at` are set on documents by the producer that accepted them: the source as
    configured (file path or feed URL) and the producer's clock when it did (the one clock read; the engine
    never reads one). The engine keeps a watermark per origin and processes an item dated more than the skew
    after `received_at` at `received_at`. Both are None for events written before they existed. Detections and
    retractions carry, as `received_at`, the receive time of the event that raised them (stream_processors.runner).
    `line` is the document's line in `origin` when that is a file read by lines (JSON Lines, one GDELT export), so an
    event-time report names `FILE:LINE` as an ingest dead letter does; None for a feed's entry (its id names it), a
    GDELT folder's row, and documents written before it existed (their reports name the origin alone)."""

    id: str
    type: str
    schema_version: int = SCHEMA_VERSION
    time: AwareDatetime
    key: str | None = None  # partitioning key (e.g. a detection's group)
    payload: dict[str, Any]
    origin: str | None = None
    received_at: AwareDatetime | None = None
    line: int | None = Field(default=None, ge=1)


def stable_id(*parts: str, length: int = 24) -> str:
    """A deterministic id from its parts: the same inputs always give the same id."""
    h = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return h[:length]


def document_event(
    doc: Document, origin: str | None = None, received_at: datetime | None = None, line: int | None = None
) -> Event:
    return Event(
        id=doc.id,
        type=doc.type,
        time=doc.published_at,
        payload=doc.model_dump(mode="json"),
        origin=origin,
        received_at=received_at,
        line=line,
    )


def signal_event(sig: Signal) -> Event:
    return Event(id=sig.id, type=EventType.SIGNAL.value, time=sig.published_at, payload=sig.model_dump(mode="json"))


def detection_event_id(det: Detection) -> str:
    """The detection's id for one raised in event-time order; a revision's own id otherwise (an alert can be
    withdrawn and raised again as a group's history changes: each time is an event of its own)."""
    return detection_key(det.id, det.revision)


def detection_key(alert_id: str, revision: int) -> str:
    """`detection_event_id` of a detection with this id and revision."""
    if revision == 0:
        return alert_id
    return stable_id("detection", alert_id, "revision", str(revision))


def detection_event(det: Detection) -> Event:
    return Event(
        id=detection_event_id(det),
        type=EventType.DETECTION.value,
        time=det.fired_at,
        key=det.rule,
        payload=det.model_dump(mode="json"),
    )


def retraction_event(r: Retraction) -> Event:
    return Event(
        id=stable_id("retraction", r.alert_id, str(r.revision)),
        type=EventType.RETRACTION.value,
        time=r.at,
        key=r.rule,
        payload=r.model_dump(mode="json"),
    )


def caught_up_event(c: CaughtUp) -> Event:
    return Event(
        id=stable_id("caught_up", c.at.isoformat(), *c.origins),
        type=EventType.CAUGHT_UP.value,
        time=c.at,
        payload=c.model_dump(mode="json"),
    )


def alert_event(a: Alert) -> Event:
    return Event(
        id=f"alert-{a.id}",
        type=EventType.ALERT.value,
        time=a.detection.fired_at,
        key=a.detection.rule,
        payload=a.model_dump(mode="json"),
    )


def delivery_event(d: Delivery) -> Event:
    # One event per outcome, and one per failed attempt (each is part of the record of an outage).
    parts = [d.alert_id, d.channel, d.status]
    if d.status == "failed":
        parts.append(str(d.attempts))
    return Event(
        id=stable_id("delivery", *parts),
        type=EventType.DELIVERY.value,
        time=d.at,
        key=d.alert_id,
        payload=d.model_dump(mode="json", exclude={"found"} if not d.found else None),
    )


def correction_event(c: Correction) -> Event:
    return Event(id=c.document_id, type=EventType.CORRECTION.value, time=c.at, payload=c.model_dump(mode="json"))


def watermark_event(partition: int, t: float | None, *, idle: bool = False) -> Event:
    """The envelope of a Watermark (built directly: this is on the distributed hot path)."""
    return Event(
        id=f"wm-{partition}-{t}-{int(idle)}",
        type=EventType.WATERMARK.value,
        time=datetime.fromtimestamp(t, UTC) if t is not None else EPOCH,
        payload={"partition": partition, "time": t, "idle": idle},
    )


def dead_letter_event(dl: DeadLetter, at: datetime) -> Event:
    return Event(
        id=stable_id("dead", dl.origin, str(dl.line), dl.reason, dl.raw[:200]),
        type=EventType.DEAD_LETTER.value,
        time=at,
        payload=dl.model_dump(mode="json"),
    )
