"""What the log says happened, for /metrics and the status page: counts per source, reason, rule, channel and
status, and the recent alerts with their deliveries. Kept current by reading only the events appended since
the last look. The counts are checkpointed with the log position they cover (the checkpoint `web:activity`), so a
new process reads only the events after it; only a store that has none (or one of another version) is read whole.

The pipeline's heartbeat is the one thing not in the log: each cycle of `watchfloor run` saves, as the
checkpoint `pipeline:cycle`, when it finished and how long each source's successful poll took (with a running
histogram), and per source its failed polls, its last success and since when it has been failing (`produce`
saves the sources' part too), so a `watchfloor serve` beside it can report the pipeline's health, poll
durations and failing sources.
"""

from __future__ import annotations

import heapq
import logging
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

import orjson
from pydantic import ValidationError

from watchfloor.alerts.standing import StandingAcks
from watchfloor.schemas.control import ControlType
from watchfloor.schemas.events import DOCUMENT_TYPES, Detection, EventType, detection_event_id
from watchfloor.schemas.inputs import visible_text
from watchfloor.schemas.redact import redact_url
from watchfloor.stream_processors.ports import (
    Checkpoint,
    CheckpointMoved,
    CheckpointStore,
    DeliveryLedger,
    EventLog,
    StoredEvent,
)

log = logging.getLogger(__name__)

HEARTBEAT = "pipeline:cycle"
# The heartbeat's key of the processes' own presence records: process id (a lease owner id) -> {"host", "pid",
# "command", "release", "live", "interval", "started_at", "last_seen"}; each saved with its process's heartbeat.
PROCESSES = "processes"
PRESENCE_FORGET = 86_400.0  # a record not seen for this long (its process killed, not stopped) is dropped at a save
POLL_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0)
RECENT_ALERTS = 200
REASON_WORDS = 12  # a reason class (a metric label) keeps its first clause up to this many words
REASON_CHARS = 80
MAX_REASONS = 50  # distinct dead-letter reasons kept as labels; the rest count as "other"
MAX_SOURCE_NAMES = 500  # distinct document source names kept as labels; the rest count as OTHER_SOURCES
OTHER_SOURCES = "(other sources)"
# Raise times are kept this long (seconds of raise time behind the newest read): nearly every delivery is sent within
# it, and one sent after it looks its alert's raise time up in the log by id, as a view started from a checkpoint does.
RAISED_KEEP = 86_400.0
RAISED_PRUNE_MIN = 4096  # raise times dropped when this many are held, or twice as many as after the last drop
_TYPES = frozenset(
    {
        *DOCUMENT_TYPES,
        EventType.SIGNAL.value,
        EventType.DETECTION.value,
        EventType.RETRACTION.value,
        EventType.ALERT.value,
        EventType.DELIVERY.value,
        EventType.DEAD_LETTER.value,
        ControlType.ALERT_ACKNOWLEDGED.value,  # (the alerts standing unacknowledged: Activity.standing)
    }
)


def reason_class(reason: str) -> str:
    """A dead letter's reason without its particulars ('malformed JSON: Expecting value at column 3' ->
    'malformed json'), so it can be a metric label."""
    # Quoted values (an id, a date as written) are particulars too; what is left is cut at the first clause of detail
    # but kept whole (outside trial 31, L4: six words cut "expected a json object, got an" mid-phrase).
    # "field 'X': what is wrong" (the input contract's field X): what is wrong is the class, with the field, which is
    # one of the contract's; an unknown field's name is the input's own, a particular (trial 34, L3: "no UTC offset"
    # and "unknown field(s)" were one label, "field …")
    named = re.match(r"\s*field '([\w.]{1,40})': (.*)", reason, re.S)
    if named:
        name, rest = named.groups()
        reason = rest if rest.startswith("unknown field") else f"{name} {rest}"
    head = re.sub(r"'[^']*'|\"[^\"]*\"", "…", reason)
    head = re.split(r"[:;(\[{]", head, maxsplit=1)[0]
    head = re.sub(r"\d+", "#", head.lower())
    label = " ".join(head.split()[:REASON_WORDS])
    if len(label) > REASON_CHARS:
        label = label[:REASON_CHARS].rsplit(" ", 1)[0] + " …"
    return label.rstrip(" ,") or "unknown"


def delivery_key(detection: Mapping[str, Any], alert_id: str) -> str:
    """The delivery key of an `alert` event's detection, as the dispatcher computed it (detection_event_id), so
    the page and `watchfloor alerts list` join the ledger alike. A payload that does not read as a detection
    (none the dispatcher wrote: it validated each first) falls back to the alert id, as before."""
    try:
        return detection_event_id(Detection.model_validate(detection))
    except ValidationError:
        return alert_id


@dataclass
class AlertRow:
    id: str
    rule: str
    title: str
    severity: str
    confidence: str | None
    group: dict[str, str]
    fired_at: str
    position: int
    channels: tuple[str, ...]
    # What the delivery ledger and `delivery` events know this alert's deliveries by: the alert id for a detection
    # raised in order, a revision's own id for one a late report raised (revision > 0; detection_event_id).
    key: str
    deliveries: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # channel -> (status, detail, at)
    # fired_at is the first-seen time of an undated report (events.fired_first_seen): the page marks it so.
    first_seen: bool = False
    # a raising again of an alert that stood, by a revision that kept its id (its evidence the same, at another
    # point: Detection.revises is its own id): revised in place, not reinstated after a withdrawal
    in_place: bool = False
    # the alert that revised this one since (Detection.revises), "" while it stands: a revision sent in its place
    # before it went out leaves it "suppressed", which without this read as silenced (trial 34, M1)
    revised_by: str = ""
    # a report it rests on is dated after fired_at (dated in the future, counted when received): the page says so
    ahead: bool = False


@dataclass
class Latencies:
    """A cumulative histogram of detection -> delivered seconds: per bucket of LATENCY_BUCKETS the deliveries at or
    under its bound, their sum and their number."""

    counts: list[int] = field(default_factory=lambda: [0] * len(LATENCY_BUCKETS))
    total: float = 0.0
    n: int = 0

    def observe(self, seconds: float) -> None:
        seconds = max(seconds, 0.0)  # (two clocks: the raise time is the receiver's, the send time the dispatcher's)
        for i, bound in enumerate(LATENCY_BUCKETS):
            if seconds <= bound:
                self.counts[i] += 1
        self.total += seconds
        self.n += 1


@dataclass
class Activity:
    position: int = 0
    documents: Counter[str] = field(default_factory=Counter)  # source name
    dead_letters: Counter[tuple[str, str]] = field(default_factory=Counter)  # (stage, reason class)
    signals: Counter[str] = field(default_factory=Counter)  # signal name
    detections: Counter[str] = field(default_factory=Counter)  # rule
    alerts: Counter[str] = field(default_factory=Counter)  # rule
    deliveries: Counter[tuple[str, str]] = field(default_factory=Counter)  # (channel, status)
    # channel -> of its `sent`, those found already posted (an earlier attempt had got through), not posted again
    found: Counter[str] = field(default_factory=Counter)
    # delivery key -> {channel: (status, detail, at)}, for the keys of the rows in `recent` only (what the page
    # shows): `delivery` events name the delivery key, not the alert id, and follow their `alert` event in the log.
    # Kept for every key ever delivered, it grew by one entry per alert for the life of `run --serve`.
    latest: dict[str, dict[str, tuple[str, str, str]]] = field(default_factory=dict)
    recent: deque[AlertRow] = field(default_factory=lambda: deque(maxlen=RECENT_ALERTS))
    shown: Counter[str] = field(default_factory=Counter)  # delivery key -> rows of `recent` with it
    # detection or retraction event id (a delivery's key) -> when it was raised, epoch seconds (when recorded)
    raised: dict[str, float] = field(default_factory=dict)
    # detection -> delivered seconds, one per `sent` delivery event (its id is fixed by key and channel: one per row,
    # its first send, whichever process sent it), observed as the event is read: no scrape reads the ledger's rows
    latency: Latencies = field(default_factory=Latencies)
    # sent deliveries whose raise time the log does not record (digests, throttle summaries, detections logged before
    # receive times were): (key, channel, sent at), timed from their ledger row's creation (ActivityView.latencies)
    unraised: list[tuple[str, str, float]] = field(default_factory=list)
    # raise times older than this (seconds behind the newest) are dropped: `raised` holds about a day's alerts, not
    # all (None: every one, as before). A `sent` delivery that then finds none goes to `lookup`.
    keep_raised: float | None = RAISED_KEEP
    newest_raise: float = 0.0
    pruned: bool = False  # whether any raise time was dropped (until then a miss is no alert of a dropped one)
    # sent deliveries whose raise time may have been dropped: (key, channel, sent at, the delivery's position), timed
    # by ActivityView from their detection's raise time in the log (`read_ids`), else moved to `unraised`
    lookup: list[tuple[str, str, float, int]] = field(default_factory=list)
    # alert id -> the alert that revised it, for an alert revised before its `alert` event (routed after the revision
    # came: one poll of several reports), taken by its row when that comes; the newest REVISED_AHEAD kept
    revised_ahead: dict[str, str] = field(default_factory=dict)
    # the alerts standing now (not revised by another, not retracted) and which are acknowledged, for /metrics'
    # watchfloor_alerts_standing and watchfloor_alerts_unacknowledged (outside trial 81, F5)
    standing: StandingAcks = field(default_factory=StandingAcks)
    prune_min: int = RAISED_PRUNE_MIN  # raise times are dropped when at least this many are held
    _prune_at: int = 0  # (at least prune_min)

    def _raised(self, key: str, at: float) -> None:
        self.raised[key] = at
        if at > self.newest_raise:
            self.newest_raise = at
        if self.keep_raised is not None and len(self.raised) >= max(self._prune_at, self.prune_min):
            cutoff = self.newest_raise - self.keep_raised
            kept = {k: t for k, t in self.raised.items() if t >= cutoff}
            self.pruned = self.pruned or len(kept) < len(self.raised)
            self.raised = kept
            self._prune_at = max(self.prune_min, 2 * len(kept))

    def apply(self, se: StoredEvent) -> None:
        self.position = max(self.position, se.position)
        ev, p = se.event, se.event.payload
        if ev.type in (EventType.DETECTION, EventType.RETRACTION, ControlType.ALERT_ACKNOWLEDGED):
            self.standing.apply(ev.type, p)
        if ev.type in DOCUMENT_TYPES:
            self.document(p)
        elif ev.type == EventType.SIGNAL:
            self.signals[str(p.get("name", "?"))] += 1
        elif ev.type == EventType.DETECTION:
            self.detections[str(p.get("rule", "?"))] += 1
            if ev.received_at is not None:
                self._raised(ev.id, ev.received_at.timestamp())
            if int(p.get("revision") or 0) > 0:
                self._raised_again(p, se.position)
            revises = p.get("revises")
            if revises and revises != p.get("id"):
                self._revised(str(revises), str(p.get("id")))
        elif ev.type == EventType.RETRACTION:
            if ev.received_at is not None:
                self._raised(ev.id, ev.received_at.timestamp())
        elif ev.type == EventType.DEAD_LETTER:
            reason = reason_class(str(p.get("reason", "")))
            key = (str(p.get("stage", "ingest")), reason)
            if key not in self.dead_letters and len(self.dead_letters) >= MAX_REASONS:
                key = (key[0], "other")
            self.dead_letters[key] += 1
        elif ev.type == EventType.ALERT:
            det = p.get("detection") or {}
            self.alerts[str(det.get("rule", "?"))] += 1
            self._row(det, str(p.get("id")), se.position, tuple(p.get("channels") or ()))
        elif ev.type == EventType.DELIVERY:
            channel, status = str(p.get("channel", "?")), str(p.get("status", "?"))
            self.deliveries[(channel, status)] += 1
            if p.get("found") and status == "sent":
                self.found[channel] += 1
            alert_key = str(p.get("alert_id"))
            if alert_key in self.shown:
                got = (status, str(p.get("detail", "")), str(p.get("at", "")))
                self.latest.setdefault(alert_key, {})[channel] = got
            if status == "sent":
                self._sent(alert_key, channel, str(p.get("at", "")), se.position)

    def document(self, p: Mapping[str, Any]) -> None:
        """Count a document (its payload) under its source's name."""
        src = p.get("source")
        name = str(src.get("name") if isinstance(src, dict) else src or "?")
        # Source names come from the input (a JSONL line's own, an RSS feed's title): one series each, so a
        # feed that renames itself every poll would grow /metrics without bound. The first MAX_SOURCE_NAMES
        # keep their series; the rest are counted together.
        if name not in self.documents and len(self.documents) >= MAX_SOURCE_NAMES:
            name = OTHER_SOURCES
        self.documents[name] += 1

    def to_state(self) -> dict[str, Any]:
        """What the checkpoint keeps (JSON): all of it but the raise times (`raised`), which grow with the alerts: a
        view started from the checkpoint looks up by id the few that a later delivery needs (ActivityView). The
        counters keep their order, which decides what MAX_SOURCE_NAMES and MAX_REASONS let in."""
        return {
            "position": self.position,
            "documents": [[name, n] for name, n in self.documents.items()],
            "dead_letters": [[stage, reason, n] for (stage, reason), n in self.dead_letters.items()],
            "signals": [[name, n] for name, n in self.signals.items()],
            "detections": [[rule, n] for rule, n in self.detections.items()],
            "alerts": [[rule, n] for rule, n in self.alerts.items()],
            "deliveries": [[channel, status, n] for (channel, status), n in self.deliveries.items()],
            "found": dict(self.found),
            "latest": {key: {ch: list(got) for ch, got in chs.items()} for key, chs in self.latest.items()},
            "recent": [_row_state(row) for row in self.recent],
            "shown": dict(self.shown),
            "latency": {"counts": list(self.latency.counts), "total": self.latency.total, "n": self.latency.n},
            "unraised": [[key, channel, sent] for key, channel, sent in self.unraised],
            "lookup": [list(got) for got in self.lookup],
            "revised_ahead": dict(self.revised_ahead),
            "standing": self.standing.to_state(),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Activity:
        """An Activity from `to_state`'s JSON (`raised` empty). ValueError (or KeyError, TypeError) if it is not one."""
        latency = state["latency"]
        counts = [int(n) for n in latency["counts"]]
        if len(counts) != len(LATENCY_BUCKETS):
            raise ValueError(f"{len(counts)} latency buckets, not {len(LATENCY_BUCKETS)}")
        a = cls(
            position=int(state["position"]),
            documents=Counter({str(k): int(n) for k, n in state["documents"]}),
            dead_letters=Counter({(str(st), str(r)): int(n) for st, r, n in state["dead_letters"]}),
            signals=Counter({str(k): int(n) for k, n in state["signals"]}),
            detections=Counter({str(k): int(n) for k, n in state["detections"]}),
            alerts=Counter({str(k): int(n) for k, n in state["alerts"]}),
            deliveries=Counter({(str(c), str(st)): int(n) for c, st, n in state["deliveries"]}),
            found=Counter({str(c): int(n) for c, n in state["found"].items()}),
            latest={
                str(key): {str(ch): _delivery_state(got) for ch, got in chs.items()}
                for key, chs in state["latest"].items()
            },
            shown=Counter({str(k): int(n) for k, n in state["shown"].items()}),
            latency=Latencies(counts, float(latency["total"]), int(latency["n"])),
            unraised=[(str(k), str(c), float(t)) for k, c, t in state["unraised"]],
            lookup=[(str(k), str(c), float(t), int(at)) for k, c, t, at in state.get("lookup", ())],
            revised_ahead={str(k): str(v) for k, v in state.get("revised_ahead", {}).items()},
            standing=StandingAcks.from_state(state["standing"]),
        )
        a.recent.extend(_row_of_state(row) for row in state["recent"])
        return a

    def _sent(self, key: str, channel: str, at: str, position: int) -> None:
        try:
            sent = datetime.fromisoformat(at).timestamp()
        except ValueError:
            return  # (no event of ours: `at` is a validated time)
        start = self.raised.get(key)
        if start:
            self.latency.observe(sent - start)
        elif self.pruned:
            self.lookup.append((key, channel, sent, position))
        else:
            self.unraised.append((key, channel, sent))

    def _row(self, det: Mapping[str, Any], alert_id: str, position: int, channels: tuple[str, ...]) -> None:
        """A row for an alert as raised (`det`: its detection's payload)."""
        if len(self.recent) == self.recent.maxlen:
            self._forget(self.recent[0].key)  # the row the append below pushes out
        self.recent.append(
            AlertRow(
                id=alert_id,
                rule=str(det.get("rule", "?")),
                title=str(det.get("title", "")),
                severity=str(det.get("severity", "")),
                confidence=det.get("confidence"),
                group={str(k): str(v) for k, v in (det.get("group") or {}).items()},
                fired_at=str(det.get("fired_at", "")),
                position=position,
                channels=channels,
                key=delivery_key(det, alert_id),
                first_seen=_fired_first_seen(det),
                revised_by=self.revised_ahead.pop(alert_id, ""),
                ahead=_fired_ahead(det),
            )
        )
        self.shown[self.recent[-1].key] += 1

    def _raised_again(self, det: Mapping[str, Any], position: int) -> None:
        """A detection that raises an alert of `recent` again with its own id (reinstated after a revision or a
        withdrawal): its `alert` event was written at the first raising (one per alert id), so the later raising and
        its deliveries get a row of their own, routed as the first was; the page shows the two as one alert."""
        alert_id = str(det.get("id"))
        before = next((row for row in reversed(self.recent) if row.id == alert_id), None)
        if before is None or delivery_key(det, alert_id) in self.shown:
            return
        self._row(det, alert_id, position, before.channels)
        if det.get("revises") == alert_id:
            self.recent[-1].in_place = True

    def _revised(self, alert_id: str, by: str) -> None:
        """Alert `alert_id` (its latest raising in `recent`) is revised by alert `by`."""
        row = next((row for row in reversed(self.recent) if row.id == alert_id), None)
        if row is not None:
            row.revised_by = by
            return
        self.revised_ahead.pop(alert_id, None)
        self.revised_ahead[alert_id] = by
        if len(self.revised_ahead) > REVISED_AHEAD:
            del self.revised_ahead[next(iter(self.revised_ahead))]

    def _forget(self, key: str) -> None:
        """A row with delivery key `key` leaves `recent`: its deliveries go too when no other row shows them."""
        self.shown[key] -= 1
        if self.shown[key] <= 0:
            del self.shown[key]
            self.latest.pop(key, None)


def _row_state(row: AlertRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "rule": row.rule,
        "title": row.title,
        "severity": row.severity,
        "confidence": row.confidence,
        "group": row.group,
        "fired_at": row.fired_at,
        "position": row.position,
        "channels": list(row.channels),
        "key": row.key,
        "deliveries": {ch: list(got) for ch, got in row.deliveries.items()},
        "first_seen": row.first_seen,
        "in_place": row.in_place,
        "revised_by": row.revised_by,
        "ahead": row.ahead,
    }


def _row_of_state(d: Mapping[str, Any]) -> AlertRow:
    confidence = d["confidence"]
    return AlertRow(
        id=str(d["id"]),
        rule=str(d["rule"]),
        title=str(d["title"]),
        severity=str(d["severity"]),
        confidence=None if confidence is None else str(confidence),
        group={str(k): str(v) for k, v in d["group"].items()},
        fired_at=str(d["fired_at"]),
        position=int(d["position"]),
        channels=tuple(str(ch) for ch in d["channels"]),
        key=str(d["key"]),
        deliveries={str(ch): _delivery_state(got) for ch, got in d["deliveries"].items()},
        first_seen=bool(d["first_seen"]),
        in_place=bool(d.get("in_place", False)),
        revised_by=str(d.get("revised_by", "")),
        ahead=bool(d.get("ahead", False)),
    )


def _delivery_state(got: Sequence[Any]) -> tuple[str, str, str]:
    status, detail, at = got
    return str(status), str(detail), str(at)


REVISED_AHEAD = 1000  # (Activity.revised_ahead: a poll's revisions of alerts not routed yet are a handful)
ACTIVITY_CHECKPOINT = "web:activity"
# The version of what the checkpoint holds. Bump it whenever Activity.apply counts differently (a label's form, a
# type read, a bound): a view that finds a checkpoint of another version reads the log whole instead, since counts
# carried over from the old rule would never match a full read by the new one.
# 2: dead-letter reasons classed whole (reason_class); 3: an alert raised again with its own id (reinstated) gets a
# row for that raising too (_raised_again); 4: deliveries found already posted counted (`found`); 5: a row knows the
# alert that revised it (`revised_by`, `revised_ahead`), and whether a report it rests on is dated ahead (`ahead`);
# an input field's dead-letter reasons classed by what is wrong with which field (reason_class); 6: the alerts standing
# and which of them are acknowledged (`standing`: acknowledgements are read too)
ACTIVITY_VERSION = 6
PAGE = 5000  # events read at a time
SAVE_AFTER_EVENTS = 10_000  # a refresh that read this many events since the last save saves (the tail a start reads)
SAVE_EVERY_SECONDS = 300.0  # else one that read anything saves when the last save is this old
SAVE_DURING_EVENTS = 50_000  # a long first read saves on the way, so a process stopped halfway does not start over
SAVE_WAIT = 0.5  # seconds a save may wait for the store's write lock; busy longer: skipped, tried at the next refresh
BY_TYPE_AFTER = 20_000  # a stretch of the log this long is read type by type (ActivityView._read_by_type)


@runtime_checkable
class SkippableSaves(Protocol):
    """A store that can save a checkpoint without waiting out a busy store (SqlStore.commit_now)."""

    def commit_now(
        self, processor: str, checkpoint: Checkpoint, *, since: int | None = None, wait: float = 0.0
    ) -> bool:
        """False when the write lock was not had within `wait` seconds (nothing written)."""
        ...


class ActivityView:
    """An `Activity` kept current from one store; safe to share between request threads.

    With `checkpoints` (the store itself: `serve`, `run --serve`), the view starts from the checkpoint
    `web:activity` (the counts and the log position they cover) and reads only what came after it, and saves it
    again as it reads (the first refresh that read anything, then every SAVE_AFTER_EVENTS events or
    SAVE_EVERY_SECONDS), by compare-and-set on the position found: two servers on one store never move it back. A
    save waits at most SAVE_WAIT for the store's write lock (a SqlStore: `commit_now`): while another writer holds it
    (a `run` in another process, this process's pipeline) the save is skipped and tried again at the next refresh,
    so a scrape never waits out the 30 s busy timeout, and the skip is not a failed write of the store
    (`write_problem`, /healthz `down`). A save that fails or is skipped is logged once until one goes through, and
    the scrape goes on: the counts are exact without it. Without `checkpoints` the whole log is read, as a full read
    to compare with.

    A view started from a checkpoint has not read the raise times of the alerts before it: a `sent` delivery of
    one of those looks its detection up by id (`EventLog.read_ids`, before the page is applied, in log order), so
    the latency histogram gets exactly what a full read gives."""

    def __init__(
        self,
        log: EventLog,
        checkpoints: CheckpointStore | None = None,
        *,
        save_after: int = SAVE_AFTER_EVENTS,
        save_every: float = SAVE_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        by_type_after: int = BY_TYPE_AFTER,
        warm_after: int = BY_TYPE_AFTER,
        raised_prune_min: int = RAISED_PRUNE_MIN,
    ) -> None:
        self.log = log
        self.raised_prune_min = raised_prune_min  # Activity.prune_min, also of one restored from a checkpoint
        # A stretch of the log at least this long behind the counts at start is read in the background (warm_up).
        self.warm_after = warm_after
        self._warming = threading.Event()  # set while warm_up's thread reads
        self.by_type_after = by_type_after
        self.checkpoints = checkpoints
        self.activity = Activity(prune_min=raised_prune_min)
        self.save_after = save_after
        self.save_every = save_every
        self.clock = clock
        self._lock = threading.Lock()
        self._loaded = checkpoints is None  # whether the checkpoint has been looked for
        self._restored = 0  # the position of the checkpoint this view started from (0: it read the log whole)
        self._saved = 0  # the position this view last saved (or started from)
        self._saved_at: float | None = None  # when this view last saved (None: not yet)
        # a checkpoint this view found and did not use: replaced by its first save (another version's, another log's),
        # unless a newer watchfloor wrote it (`_keep`: that one goes on using it; this view saves none)
        self._rejected: int | None = None
        self._keep: int | None = None
        self._save_failed = False  # logged once
        # the position of the last save skipped for a busy store: a long read tries again SAVE_DURING_EVENTS further on
        self._skipped = 0

    def warm_up(self) -> threading.Thread | None:
        """At server start: when the counts start far behind the log (no `web:activity` checkpoint yet, the first
        start after an upgrade, or one long behind: `warm_after` events or more), read up to the head on a thread of
        its own (the thread, to join), so that a scrape meanwhile answers at once (`refresh_unless_warming`) instead
        of waiting for the whole read (~4 s at 221k events). None when there is little to read (the first scrape
        reads it, as before) or the store cannot be asked now (the first scrape says why)."""
        with self._lock:
            try:
                if not self._loaded:
                    self._load()
                behind = self.log.head() - self.activity.position
            except Exception:  # the store away at start: a scrape reads (or says it is down) as before
                log.debug("activity warm-up not started", exc_info=True)
                return None
            if behind < self.warm_after:
                return None
            self._warming.set()
        thread = threading.Thread(target=self._warm, name="watchfloor-metrics-warm-up", daemon=True)
        thread.start()
        return thread

    def _warm(self) -> None:
        try:
            self.refresh()
        except Exception as e:  # the store went away: a scrape reads again (or says it is down)
            log.warning("activity warm-up stopped (%s: %s): the next scrape reads on", type(e).__name__, e)
        finally:
            self._warming.clear()

    @property
    def warming(self) -> bool:
        """Whether warm_up's read is going on."""
        return self._warming.is_set()

    def refresh_unless_warming(self) -> Activity | None:
        """`refresh`, or None at once while warm_up's thread reads (it holds the view: the counts are partial)."""
        if self._warming.is_set():
            return None
        return self.refresh()

    def refresh(self) -> Activity:
        with self._lock:
            a = self.activity
            if not self._loaded:
                self._load()
                a = self.activity
            head = self.log.head()
            if head - a.position >= self.by_type_after:
                self._read_by_type(head)
            while True:
                # Every type, by the primary key: `type IN (...)` made SQLite walk the type index and sort every
                # remaining row at each page; the few events of other types (caught_up, control) are skipped here.
                got = self.log.read(a.position, limit=PAGE)
                if not got:
                    break
                if self._restored:
                    self._raise_times(got)
                for se in got:
                    if se.event.type in _TYPES:
                        a.apply(se)
                a.position = max(a.position, got[-1].position)
                self._look_up()
                if self.checkpoints is not None and a.position - max(self._saved, self._skipped) >= SAVE_DURING_EVENTS:
                    self._save()
            for row in a.recent:
                for ch in row.channels:
                    got_status = a.latest.get(row.key, {}).get(ch)
                    if got_status is not None:
                        row.deliveries[ch] = got_status
            if self.checkpoints is not None and a.position > self._saved and self._save_due():
                self._save()
            return a

    def _save_due(self) -> bool:
        last = self._saved_at
        return (
            last is None
            or self.activity.position - self._saved >= self.save_after
            or self.clock() >= last + self.save_every
        )

    def _load(self) -> None:
        """Start from the checkpoint when it is one this version wrote for this log; else from position 0."""
        assert self.checkpoints is not None
        cp = self.checkpoints.load_checkpoint(ACTIVITY_CHECKPOINT)
        state = cp.state or {}
        if cp.position > 0:
            version = state.get("version")
            why = None
            if version != ACTIVITY_VERSION:
                why = f"version {version}, this watchfloor's is {ACTIVITY_VERSION}"
            elif cp.position > (head := self.log.head()):
                why = f"it covers position {cp.position}, the log ends at {head} (another log?)"
            else:
                try:
                    activity = Activity.from_state(state["activity"])
                    if activity.position != cp.position:
                        raise ValueError(f"its counts are of position {activity.position}")
                except (KeyError, TypeError, ValueError, AttributeError) as e:
                    why = f"unreadable ({type(e).__name__}: {e})"
                else:
                    activity.prune_min = self.raised_prune_min
                    self.activity = activity
                    self._restored = self._saved = cp.position
            if why is not None:
                newer = isinstance(version, int) and version > ACTIVITY_VERSION
                if newer:
                    self._keep = cp.position
                else:
                    self._rejected = cp.position
                log.warning("activity checkpoint %s not used (%s): reading the log whole", ACTIVITY_CHECKPOINT, why)
        self._loaded = True

    def _read_by_type(self, until: int) -> None:
        """Read the log up to `until` one type at a time, each by `ix_events_type_position` in position order (no
        sort), merged back into log order, the documents as their payloads' text alone (`read_payloads`): no `Event`
        is built for them, their bulk (~77 % of a log, each with its article), of which the counts need the source's
        name. The same counts as `refresh`'s pages: each counter depends on the order of its own types only, and the
        merge keeps log order anyway. Used for a long stretch (a first read, a restart long after the last save)."""
        a = self.activity
        start = a.position
        streams: list[Iterator[tuple[int, StoredEvent | str]]] = [
            self._payloads_of(t, start, until) for t in sorted(DOCUMENT_TYPES)
        ]
        streams += [self._events_of(t, start, until) for t in sorted(_TYPES - DOCUMENT_TYPES)]
        for position, item in heapq.merge(*streams, key=lambda got: got[0]):
            if isinstance(item, str):
                a.document(orjson.loads(item))
            else:
                a.apply(item)
            a.position = position
            if len(a.lookup) >= PAGE:
                self._look_up()
            if self.checkpoints is not None and position - max(self._saved, self._skipped) >= SAVE_DURING_EVENTS:
                self._save()
        a.position = max(a.position, until)
        self._look_up()

    def _payloads_of(self, event_type: str, after: int, until: int) -> Iterator[tuple[int, StoredEvent | str]]:
        while True:
            got = self.log.read_payloads(after, types={event_type}, limit=PAGE)
            for position, text in got:
                if position > until:
                    return
                yield position, text
            if len(got) < PAGE:
                return
            after = got[-1][0]

    def _events_of(self, event_type: str, after: int, until: int) -> Iterator[tuple[int, StoredEvent | str]]:
        while True:
            got = self.log.read(after, types={event_type}, limit=PAGE)
            if self._restored and event_type == EventType.DELIVERY:
                self._raise_times(got)  # (ahead of the merge: only raise times before the checkpoint are taken)
            for se in got:
                if se.position > until:
                    return
                yield se.position, se
            if len(got) < PAGE:
                return
            after = got[-1].position

    def _raise_times(self, page: Sequence[StoredEvent]) -> None:
        """The raise times a page's `sent` deliveries need of alerts raised before the checkpoint this view started
        from (the only ones it has not read), looked up by id before the page is applied, as a full read has them."""
        raised = self.activity.raised
        keys = {
            str(se.event.payload.get("alert_id"))
            for se in page
            if se.event.type == EventType.DELIVERY and se.event.payload.get("status") == "sent"
        }
        keys.difference_update(raised)
        if not keys:
            return
        for se in self.log.read_ids(keys):
            ev = se.event
            if se.position <= self._restored and ev.received_at is not None:
                if ev.type in (EventType.DETECTION, EventType.RETRACTION):
                    raised[ev.id] = ev.received_at.timestamp()

    def _look_up(self) -> None:
        """Time the `sent` deliveries whose raise time was dropped (Activity.lookup) from their detection's (or
        retraction's) raise time in the log, read by id: what they would have found held. One with none there (a
        digest, a throttle summary, a detection without a receive time) is timed as it always was (`unraised`)."""
        a = self.activity
        if not a.lookup:
            return
        found: dict[str, tuple[int, float]] = {}
        for se in self.log.read_ids({key for key, _, _, _ in a.lookup}):
            ev = se.event
            if ev.type in (EventType.DETECTION, EventType.RETRACTION) and ev.received_at is not None:
                found[ev.id] = (se.position, ev.received_at.timestamp())
        for key, channel, sent, at in a.lookup:
            got = found.get(key)
            if got is not None and got[0] < at:
                a.latency.observe(sent - got[1])
            else:
                a.unraised.append((key, channel, sent))
        a.lookup.clear()

    def _save(self) -> None:
        """Save the counts with the position they cover, unless another process has saved a later one."""
        assert self.checkpoints is not None
        a = self.activity
        try:
            found = self.checkpoints.checkpoint_position(ACTIVITY_CHECKPOINT)
            if found == self._keep or (found >= a.position and found != self._rejected):
                # a newer watchfloor's, or another server's that is as far: nothing to add (never moved back)
                self._saved, self._saved_at = a.position, self.clock()
                return
            cp = Checkpoint(a.position, {"version": ACTIVITY_VERSION, "activity": a.to_state()})
            if isinstance(self.checkpoints, SkippableSaves):
                if not self.checkpoints.commit_now(ACTIVITY_CHECKPOINT, cp, since=found, wait=SAVE_WAIT):
                    # Another writer holds the lock: not due later but now, so the next refresh tries again.
                    self._skipped = a.position
                    self._failed(f"the store is busy (another writer held its write lock past {SAVE_WAIT:g} s)")
                    return
            else:
                self.checkpoints.commit(ACTIVITY_CHECKPOINT, cp, [], since=found)
            self._saved, self._saved_at, self._rejected = a.position, self.clock(), None
            self._save_failed = False  # the next failure is said again
        except CheckpointMoved:
            self._saved, self._saved_at = a.position, self.clock()  # another server saved in between: try later
        except Exception as e:  # a save is an optimisation: the counts are right without it
            self._saved_at = self.clock()
            self._failed(f"{type(e).__name__}: {e}")

    def _failed(self, why: str) -> None:
        """Say once, until a save goes through, that the checkpoint is not saved."""
        if not self._save_failed:
            self._save_failed = True
            log.warning(
                "activity checkpoint %s not saved (%s): a restart will read the log from position %d",
                ACTIVITY_CHECKPOINT,
                why,
                self._saved,
            )

    def latencies(self, created: Callable[[Collection[str]], Mapping[tuple[str, str], float]]) -> Latencies:
        """The detection -> delivered histogram so far (call after `refresh`). Sent deliveries whose raise time the log
        does not record are timed from their ledger row's creation: `created(keys)` -> (key, channel) -> created_at,
        asked for those read since the last call only (a look-up by key each). A failing `created` keeps them."""
        with self._lock:
            a = self.activity
            if a.unraised:
                found = created(sorted({key for key, _, _ in a.unraised}))
                for key, channel, sent in a.unraised:
                    start = found.get((key, channel))
                    if start:  # (a row with no creation time, or none at all, is not timed: as before)
                        a.latency.observe(sent - start)
                a.unraised.clear()
            return Latencies(list(a.latency.counts), a.latency.total, a.latency.n)


# --- the pipeline's heartbeat ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourcePoll:
    """One source's poll in one cycle, as the heartbeat keeps it: how long it took and, if it failed, why."""

    origin: str
    seconds: float = 0.0
    error: str | None = None
    editions_left_out: int = 0  # edits of feed items past the source's max_editions (publish.py), each text once


PollsArg = Mapping[str, float] | Iterable[tuple[str, float]] | Iterable[SourcePoll]


def _source_polls(polls: PollsArg) -> list[SourcePoll]:
    out = []
    for p in polls.items() if isinstance(polls, Mapping) else polls:
        out.append(_shown(p) if isinstance(p, SourcePoll) else SourcePoll(redact_url(str(p[0])), float(p[1])))
    return out


def _shown(poll: SourcePoll) -> SourcePoll:
    """A poll under its source's name as it may be shown: the heartbeat feeds /healthz, /metrics and the status
    page, and a feed URL may carry a key (`?api_key=`) or a password, which must reach none of them."""
    origin = redact_url(poll.origin)
    return poll if origin == poll.origin else SourcePoll(origin, poll.seconds, poll.error, poll.editions_left_out)


def _shown_origins(origins: Collection[str] | None) -> frozenset[str] | None:
    return None if origins is None else frozenset(redact_url(o) for o in origins)


def _save(store: CheckpointStore, change: Callable[[Mapping[str, Any]], dict[str, Any]]) -> bool:
    """Whether the change was saved: False when other processes kept saving theirs first (said here)."""
    for _ in range(10):
        # A read-modify-write: its position counts the saves, and the save is a compare-and-set on it, so two
        # processes on one store (two `run` loops, cron overlapping itself) never lose each other's polls.
        saved = store.load_checkpoint(HEARTBEAT)
        new = change(saved.state or {})
        try:
            store.commit(HEARTBEAT, Checkpoint(saved.position + 1, new), [], since=saved.position)
            return True
        except CheckpointMoved:
            continue
    log.warning("heartbeat: not saved (other processes kept saving theirs first)")
    return False


def record_cycle(
    store: CheckpointStore,
    finished_at: datetime,
    seconds: float,
    polls: PollsArg,
    *,
    cycles: int = 1,
    polled: Sequence[tuple[datetime, Sequence[SourcePoll]]] = (),
    sources: Collection[str] | None = None,
    behind: Sequence[str] = (),
    runner: Mapping[str, Any] | None = None,
    late: Mapping[str, tuple[int, int]] | None = None,
    presence: tuple[str, Mapping[str, Any]] | None = None,
) -> None:
    """Save finished pipeline cycles (`behind`: what the last one left for the next, HeartbeatRecorder.cycle):
    when the last ended, how long it took, each successful poll's duration
    (added to a running histogram per source, so poll durations survive restarts and reach a separate `serve`),
    and each source's health from `polled` (the cycles' polls in order, with when each cycle ended). `sources`:
    the origins configured now; the health of any other is forgotten (a mistyped path fixed in the config must not
    stay failing). `runner`: the process that ran them, {"process": its lease owner id, "live": a loop, not a
    `--once`}, for a separate `serve` to tell a live run that is gone (trial 38, MED-4). `late`: per origin, the
    documents beyond the lateness the engine took in them, (passed over: no detection reads them, dead-lettered),
    added to running counts (status, /metrics: outside trial 67, MED-4). `presence`: (process id, its presence
    record), kept under PROCESSES in the same commit (_with_presence)."""
    entries = [p for p in _source_polls(polls) if p.error is None]

    shown = [(at, [_shown(p) for p in ps]) for at, ps in polled]
    configured = _shown_origins(sources)

    def change(state: Mapping[str, Any]) -> dict[str, Any]:
        return {
            **_with_sources(_with_cycle(state, finished_at, seconds, entries, cycles), shown, configured),
            **_with_late(state, late or {}),
            "behind": list(behind),
            **({"runner": dict(runner)} if runner is not None else {}),
            **_with_presence(state, presence, finished_at),
        }

    _save(store, change)


def record_sources(
    store: CheckpointStore, at: datetime, polls: Sequence[SourcePoll], sources: Collection[str] | None = None
) -> None:
    """Save one poll's outcome per source without counting a pipeline cycle (`watchfloor produce`: its sources'
    health reaches /healthz and /metrics of a `serve` on its store). `sources` as for record_cycle."""
    shown = [_shown(p) for p in polls]
    configured = _shown_origins(sources)
    _save(store, lambda state: _with_sources(state, [(at, shown)], configured))


def record_start(
    store: CheckpointStore,
    at: datetime,
    runner: Mapping[str, Any],
    *,
    presence: tuple[str, Mapping[str, Any]] | None = None,
) -> None:
    """Keep a live `run`'s start (its process, interval, when) beside the cycle record, in place of an earlier one's:
    a run killed before its first cycle ended recorded no cycle, and was told by nothing (trial 50, MED-3).
    `presence`: its presence record, saved in the same commit (_with_presence)."""
    started = {**runner, "at": at.astimezone(UTC).isoformat()}
    _save(store, lambda state: {**state, "started": started, **_with_presence(state, presence, at)})


def _with_presence(
    state: Mapping[str, Any], presence: tuple[str, Mapping[str, Any]] | None, at: datetime
) -> dict[str, Any]:
    """The presence records with `presence` (process id, record) in place of that process's, and without those not
    seen for PRESENCE_FORGET before `at` (a process killed, or of another host: never removed by a clean stop)."""
    if presence is None:
        return {}
    forget_before = at.timestamp() - PRESENCE_FORGET
    kept: dict[str, Any] = {}
    for process, entry in (state.get(PROCESSES) or {}).items():
        try:
            seen = datetime.fromisoformat(str(entry.get("last_seen"))).timestamp()
        except (AttributeError, TypeError, ValueError):
            continue  # (none of ours: each is written whole)
        if seen >= forget_before:
            kept[process] = entry
    kept[presence[0]] = dict(presence[1])
    return {PROCESSES: kept}


def _without(records: Any, process: str) -> dict[str, Any]:
    return {p: e for p, e in (records or {}).items() if p != process}


def record_channel_checks(
    store: CheckpointStore,
    at: datetime,
    failed: Sequence[tuple[str, str]],
    cleared_by_delivery: Mapping[str, str] | None = None,
) -> None:
    """Keep the channels whose check failed at a dispatcher's start, (channel as shown, why), in place of an earlier
    start's: `status`, the status page and /healthz say them (trial 33, M2). None failed: an empty list, so a start
    after the fix clears them. `cleared_by_delivery`: channel as shown -> its ledger channel, for the failures a
    delivery sent there later shows fixed (superseded_checks; not a bot that posts but cannot read the history)."""
    checks = {
        "at": at.astimezone(UTC).isoformat(),
        "failed": [[ch, why] for ch, why in failed],
        # (a key of its own: a reader of the version before unpacks each "failed" entry as a pair)
        "cleared_by_delivery": dict(cleared_by_delivery or {}),
    }
    _save(store, lambda state: {**state, "channel_checks": checks})


@dataclass(frozen=True)
class ChannelChecks:
    """The failed checks of the last dispatcher start as `status`, /healthz and the status page say them now."""

    standing: tuple[tuple[str, str], ...]  # (channel as shown, why): still a warning
    superseded: dict[str, tuple[str, float]]  # channel as shown -> (why, its last delivery sent, epoch seconds)


def superseded_checks(store: DeliveryLedger, hb: Heartbeat) -> ChannelChecks:
    """Split the last start's failed channel checks: one whose channel has a delivery sent after the check's time
    is superseded (trial 54, LOW-1: "check at start failed" was said for channels that had delivered dozens of
    alerts since Slack came back), the others stand. Decided here, where it is read, from the ledger's index of sent
    rows (one seek per failed channel), so the delivery path writes nothing more. A failure a delivery does not show
    fixed (the bot posts but cannot read the history), and any of a start recorded before this rule, stands."""
    cleared = {ch: key for ch, key in hb.channels_cleared_by_delivery.items() if ch in dict(hb.channel_checks)}
    if not cleared or hb.channels_checked_at is None:
        return ChannelChecks(hb.channel_checks, {})
    checked = datetime.fromisoformat(hb.channels_checked_at).timestamp()
    last = store.last_sent(set(cleared.values()))
    superseded = {
        ch: (why, last[cleared[ch]])
        for ch, why in hb.channel_checks
        if ch in cleared and last.get(cleared[ch], 0.0) > checked
    }
    return ChannelChecks(tuple((ch, why) for ch, why in hb.channel_checks if ch not in superseded), superseded)


def _with_cycle(
    state: Mapping[str, Any], finished_at: datetime, seconds: float, polls: list[SourcePoll], cycles: int
) -> dict[str, Any]:
    hist: dict[str, Any] = dict(state.get("polls") or {})
    for p in polls:
        origin, secs = p.origin, p.seconds
        h = hist.get(origin) or {"buckets": [0] * len(POLL_BUCKETS), "sum": 0.0, "count": 0}
        buckets = list(h["buckets"])
        for i, bound in enumerate(POLL_BUCKETS):
            if secs <= bound:
                buckets[i] += 1
        hist[origin] = {"buckets": buckets, "sum": h["sum"] + secs, "count": h["count"] + 1, "last": secs}
    return {
        **state,
        "finished_at": finished_at.astimezone(UTC).isoformat(),
        "seconds": seconds,
        "cycles": int(state.get("cycles", 0)) + cycles,
        "polls": hist,
    }


def _with_late(state: Mapping[str, Any], late: Mapping[str, tuple[int, int]]) -> dict[str, Any]:
    """The running counts of late documents per origin (as shown: redact_url), {"passed_over", "dead_lettered"}."""
    if not late:
        return {}
    counts: dict[str, Any] = {o: dict(c) for o, c in (state.get("late") or {}).items()}
    for origin, (passed, lettered) in late.items():
        c = counts.setdefault(redact_url(origin), {"passed_over": 0, "dead_lettered": 0})
        c["passed_over"] = int(c.get("passed_over", 0)) + passed
        c["dead_lettered"] = int(c.get("dead_lettered", 0)) + lettered
    return {"late": counts}


def _with_sources(
    state: Mapping[str, Any],
    polled: Sequence[tuple[datetime, Sequence[SourcePoll]]],
    configured: Collection[str] | None = None,
) -> dict[str, Any]:
    """Per source: failed polls (a running count), the last success, since when it has been failing and why, the
    edits left out past its max_editions (a running count); and which sources the last poll read and which of them
    failed."""
    sources: dict[str, Any] = dict(state.get("sources") or {})
    if configured is not None:
        sources = {origin: s for origin, s in sources.items() if origin in configured}
    last_poll = state.get("last_poll")
    for at, polls in polled:
        if not polls:
            continue
        when = at.astimezone(UTC).isoformat()
        for p in polls:
            s = dict(sources.get(p.origin) or {"failures": 0, "last_success": None, "failing_since": None})
            if p.editions_left_out:
                s["editions_left_out"] = int(s.get("editions_left_out", 0)) + p.editions_left_out
            if p.error is None:
                s.update(last_success=when, failing_since=None, last_error=None)
            else:
                s["failures"] = int(s.get("failures", 0)) + 1
                s.update(
                    failing_since=s.get("failing_since") or when,
                    last_error=visible_text(p.error[:300]),
                    last_failure=when,
                )
            sources[p.origin] = s
        last_poll = {"at": when, "polled": len(polls), "failed": [p.origin for p in polls if p.error is not None]}
    out = dict(state)
    if sources:
        out["sources"] = sources
    if last_poll is not None:
        out["last_poll"] = last_poll
    return out


PRESENCE_EVERY = 10.0  # seconds between the saves of a `notify`'s or `serve`'s presence record, at the least
# Failed saves of a presence record in a row before it is said at WARNING (one is a lock held a moment; more, and
# `status` stops listing the process while it runs)
PRESENCE_WARN_AFTER = 3


class PresenceRecorder:
    """The presence record alone of a process that writes the store but runs no pipeline cycle: `notify` and `serve`
    (outside trial 78, F6: the README's upgrade steps said to wait until `status` lists each process again, and it
    listed only `run`s). Saved at its start, then at most once per `every` seconds (a store commit each: `interval`,
    kept in the record, is what `status` allows before it stops listing it), and removed at a clean stop, as a
    `run`'s is (HeartbeatRecorder). `clock`: monotonic seconds, for when a save is due."""

    def __init__(
        self,
        store: CheckpointStore,
        process: str,
        *,
        command: str,
        release: str | None,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.process = process
        self.every = interval
        self.clock = clock
        host, pid = [*process.split(":"), "", ""][:2]
        self.record: dict[str, Any] = {
            "host": host,
            "pid": pid,
            "command": command,
            "release": release,
            "live": True,
            "interval": interval,
        }
        self._saved: float | None = None
        self.failures = 0  # failed saves in a row (PRESENCE_WARN_AFTER)

    def seen(self, at: datetime) -> bool:
        """Record that it runs as of `at` (the first call: its start), unless saved less than `every` seconds ago.
        False when the save failed: the next call tries again, whenever it comes (not `every` seconds later), and
        PRESENCE_WARN_AFTER failures in a row are said at WARNING: a record not refreshed reads as a process gone.
        The failure never stops the process's work, which says a store outage itself."""
        if self._saved is not None and self.clock() - self._saved < self.every:
            return True
        stamp = at.astimezone(UTC).isoformat()
        self.record.setdefault("started_at", stamp)
        entry = (self.process, {**self.record, "last_seen": stamp})
        try:
            # (_with_presence keeps every other process's record, live or gone, until PRESENCE_FORGET)
            saved = _save(self.store, lambda state: {**state, **_with_presence(state, entry, at)})
            why = "other processes kept saving theirs first"
        except Exception as e:  # (a look for `status`, not the work)
            saved, why = False, str(e) or type(e).__name__
        if not saved:
            self._failed(why)
            return False
        if self.failures >= PRESENCE_WARN_AFTER:
            log.warning(
                "presence record of `watchfloor %s` saved again after %d failed tries", self.command, self.failures
            )
        self.failures = 0
        self._saved = self.clock()
        return True

    @property
    def command(self) -> str:
        return str(self.record["command"])

    def _failed(self, why: str) -> None:
        self.failures += 1
        if self.failures == PRESENCE_WARN_AFTER:
            log.warning(
                "presence record of `watchfloor %s` not saved %d times in a row (%s): `status` stops listing this "
                "process while it runs once its record is older than its interval allows; still retrying",
                self.command,
                self.failures,
                why,
            )
        else:
            log.debug("presence record not saved (%d in a row): %s", self.failures, why)

    def stop(self) -> None:
        """A clean stop: the record is removed, so `status` no longer lists it."""
        if self._saved is None:
            return
        try:
            _save(self.store, lambda state: {**state, PROCESSES: _without(state.get(PROCESSES), self.process)})
        except Exception as e:  # (named as gone, then forgotten after PRESENCE_FORGET: a stop is not held up)
            log.warning("presence record of `watchfloor %s` not removed at its stop: %s", self.command, e)


class HeartbeatRecorder:
    """The live loop's heartbeat, saved at most once per `every` seconds: each save is a store commit (an
    fsync), and a loop polling every 100 ms would otherwise add ten a second to the alerts' own commits."""

    def __init__(
        self,
        store: CheckpointStore,
        every: float = 1.0,
        *,
        sources: Collection[str] | None = None,
        process: str | None = None,
        live: bool = True,
        interval: float | None = None,
        rules: str | None = None,
        command: str | None = None,
        release: str | None = None,
    ) -> None:
        self.store = store
        self.every = every
        # Who runs the cycles (a lease owner id: host, pid, boot), whether as a loop, and its poll interval (a separate
        # `serve` tells a hung loop by it, trial 42 MED-2): kept with the heartbeat
        self.runner: dict[str, Any] | None = None
        if process is not None:
            self.runner = {"process": process, "live": live}
            if interval is not None:
                self.runner["interval"] = interval
            if rules is not None:  # the fingerprint of the rules it read at start: `status --config` compares (MED-4)
                self.runner["rules"] = rules
            if release is not None:  # (a runner without it is of a release before presence records: processes_seen)
                self.runner["release"] = release
        # This process's own presence record, beside the others' (PROCESSES), so that `status` can tell two `run`s on
        # one store, or two releases in a rolling upgrade: the last cycle's runner names only one (trial 69, L6)
        self.presence: dict[str, Any] | None = None
        if process is not None:
            host, pid = [*process.split(":"), "", ""][:2]
            self.presence = {"host": host, "pid": pid, "command": command, "release": release, "live": live}
            if interval is not None:
                self.presence["interval"] = interval
        self.sources = None if sources is None else frozenset(sources)  # the origins configured (record_cycle)
        self._polls: list[SourcePoll] = []
        self._polled: list[tuple[datetime, list[SourcePoll]]] = []
        self._last: tuple[datetime, float] | None = None
        self._cycles = 0
        self._saved = float("-inf")
        self._behind: list[str] = []
        self._late: dict[str, tuple[int, int]] = {}

    def start(self, at: datetime) -> None:
        """Record a live loop's start (record_start); a `--once` is idle between its runs and records none."""
        if self.presence is not None:
            self.presence["started_at"] = at.astimezone(UTC).isoformat()
        if self.runner is not None and self.runner.get("live"):
            record_start(self.store, at, self.runner, presence=self._presence(at))

    def _presence(self, at: datetime) -> tuple[str, dict[str, Any]] | None:
        """This process's presence record as of `at` (its last-seen time), under its process id."""
        if self.presence is None or self.runner is None:
            return None
        entry = {**self.presence, "last_seen": at.astimezone(UTC).isoformat()}
        entry.setdefault("started_at", entry["last_seen"])
        return str(self.runner["process"]), entry

    def stop(self) -> None:
        """A clean stop: this process's presence record is removed (one commit), so `status` no longer lists it."""
        if self.runner is not None and self.presence is not None:
            process = str(self.runner["process"])
            _save(self.store, lambda state: {**state, PROCESSES: _without(state.get(PROCESSES), process)})

    def late(self, passed_over: Mapping[str, int], dead_lettered: Mapping[str, int]) -> None:
        """A cycle's late documents per origin: passed over (no detection reads them) and dead-lettered; saved with
        the next cycle (record_cycle's `late`)."""
        for origin in {*passed_over, *dead_lettered}:
            p, d = self._late.get(origin, (0, 0))
            self._late[origin] = (p + passed_over.get(origin, 0), d + dead_lettered.get(origin, 0))

    def cycle(self, finished_at: datetime, seconds: float, polls: PollsArg, behind: Sequence[str] = ()) -> None:
        """`polls`: each source polled in the cycle (SourcePoll, or origin -> seconds for a successful one); `behind`:
        what the cycle left for the next (a backlog read a slice per cycle: /healthz says "catching up")."""
        got = _source_polls(polls)
        self._behind = list(behind)
        self._polls.extend(got)
        if got:
            self._polled.append((finished_at, got))
        self._last = (finished_at, seconds)
        self._cycles += 1
        if time.monotonic() - self._saved >= self.every:
            self.flush()

    def flush(self) -> None:
        if self._last is None:
            return
        record_cycle(
            self.store,
            *self._last,
            self._polls,
            cycles=self._cycles,
            polled=self._polled,
            sources=self.sources,
            behind=self._behind,
            runner=self.runner,
            late=self._late,
            presence=self._presence(self._last[0]),
        )
        self._polls, self._polled, self._last, self._cycles, self._late = [], [], None, 0, {}
        self._saved = time.monotonic()


@dataclass(frozen=True)
class Heartbeat:
    finished_at: datetime | None
    seconds: float | None
    cycles: int
    polls: dict[str, dict[str, Any]]
    # origin -> {"failures", "last_success", "failing_since", "last_error", "last_failure", "editions_left_out"}
    # (times ISO 8601)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_poll: dict[str, Any] = field(default_factory=dict)  # {"at", "polled": n, "failed": [origins]}
    behind: tuple[str, ...] = ()  # what the last cycle left for the next: a backlog being read a slice per cycle
    # the channels whose check failed at the last dispatcher start: (channel, why), and when (record_channel_checks)
    channel_checks: tuple[tuple[str, str], ...] = ()
    channels_checked_at: str | None = None
    # of those, the ones a delivery sent there later supersedes: channel as shown -> its ledger channel
    channels_cleared_by_delivery: dict[str, str] = field(default_factory=dict)
    # the process that wrote the last cycle (a lease owner id) and whether it runs as a loop (not `--once`)
    process: str | None = None
    live: bool | None = None
    interval: float | None = None  # the live loop's poll interval, seconds (None: a `--once`, or not recorded)
    rules: str | None = None  # the fingerprint of the rules that process read at its start (None: not recorded)
    # the live `run` started last (record_start): its process, when, and its poll interval
    started_at: datetime | None = None
    started_process: str | None = None
    started_interval: float | None = None
    # origin -> {"passed_over": n, "dead_lettered": n}: documents beyond the lateness, running counts (record_cycle)
    late: dict[str, dict[str, int]] = field(default_factory=dict)
    # the release of the process that wrote the last cycle (None: one of a release before presence records)
    release: str | None = None
    # process id -> its presence record (PROCESSES): the processes that run, or ran, on this store
    processes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def first_cycle_pending(self) -> bool:
        """The live `run` started last has recorded no cycle since its start (none at all, or only an earlier
        run's): that run, not the last cycle's, is the one to tell (running its first cycle, or gone)."""
        if self.started_at is None or self.started_process is None:
            return False
        return self.finished_at is None or self.started_at > self.finished_at

    def started_age(self, now: datetime) -> float | None:
        """Seconds since the live `run` started last, while it has recorded no cycle (first_cycle_pending)."""
        if not self.first_cycle_pending() or self.started_at is None:
            return None
        return max((now - self.started_at).total_seconds(), 0.0)

    def stale_after(self, pipeline_max_age: float | None = None) -> float | None:
        """The age of the last cycle past which the pipeline is stale: `pipeline_max_age` when it runs in this
        process (`run --serve`), else, for a separate `serve`, the same rule from the interval the live `run`
        recorded: three poll intervals and a minute's slack for a slow cycle (trial 42, MED-2: a hung `run`, or one
        that could not write its store, was "running" for minutes). None: no rule (a `run --once` is idle between
        its runs, an older `run` recorded no interval)."""
        if pipeline_max_age is not None:
            return pipeline_max_age
        if self.first_cycle_pending() and self.started_interval:
            return stale_age(self.started_interval)
        if self.live and self.interval:
            return stale_age(self.interval)
        return None

    def age(self, now: datetime) -> float | None:
        return None if self.finished_at is None else max((now - self.finished_at).total_seconds(), 0.0)

    def failing(self, now: datetime) -> dict[str, tuple[float, str]]:
        """Sources whose last poll failed: origin -> (seconds since their failures began, the last error)."""
        out = {}
        for origin, s in self.sources.items():
            since = s.get("failing_since")
            if since:
                out[origin] = (
                    max((now - datetime.fromisoformat(since)).total_seconds(), 0.0),
                    str(s.get("last_error")),
                )
        return out


def heartbeat(store: CheckpointStore) -> Heartbeat:
    state = store.load_checkpoint(HEARTBEAT).state or {}
    at = state.get("finished_at")
    return Heartbeat(
        finished_at=datetime.fromisoformat(at) if at else None,
        seconds=state.get("seconds"),
        cycles=int(state.get("cycles", 0)),
        polls=dict(state.get("polls") or {}),
        sources=dict(state.get("sources") or {}),
        last_poll=dict(state.get("last_poll") or {}),
        behind=tuple(state.get("behind") or ()),
        channel_checks=tuple((str(ch), str(why)) for ch, why in (state.get("channel_checks") or {}).get("failed", ())),
        channels_checked_at=(state.get("channel_checks") or {}).get("at"),
        channels_cleared_by_delivery={
            str(ch): str(key)
            for ch, key in ((state.get("channel_checks") or {}).get("cleared_by_delivery") or {}).items()
        },
        process=(state.get("runner") or {}).get("process"),
        live=(state.get("runner") or {}).get("live"),
        interval=_number((state.get("runner") or {}).get("interval")),
        rules=r if isinstance(r := (state.get("runner") or {}).get("rules"), str) else None,
        started_at=datetime.fromisoformat(t) if isinstance(t := (state.get("started") or {}).get("at"), str) else None,
        started_process=p if isinstance(p := (state.get("started") or {}).get("process"), str) else None,
        started_interval=_number((state.get("started") or {}).get("interval")),
        late={
            str(o): {"passed_over": int(c.get("passed_over", 0)), "dead_lettered": int(c.get("dead_lettered", 0))}
            for o, c in (state.get("late") or {}).items()
            if isinstance(c, dict)
        },
        release=v if isinstance(v := (state.get("runner") or {}).get("release"), str) else None,
        processes={str(p): dict(e) for p, e in (state.get(PROCESSES) or {}).items() if isinstance(e, dict)},
    )


def stale_age(interval: float) -> float:
    """A live loop polling every `interval` seconds is stale when no cycle finished for this long: three intervals
    and a minute's slack for a slow cycle (`run --serve` and a separate `serve` alike)."""
    return 3 * interval + 60


def _number(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def buckets_of(h: Mapping[str, Any]) -> Sequence[tuple[str, float]]:
    """Prometheus buckets (cumulative, with +Inf) from a stored per-bound histogram."""
    out = [(str(bound), float(n)) for bound, n in zip(POLL_BUCKETS, h.get("buckets", ()), strict=False)]
    out.append(("+Inf", float(h.get("count", 0))))
    return out


def _fired_ahead(det: Mapping[str, Any]) -> bool:
    """detection_fields.dated_ahead on a detection's JSON: a report it rests on is dated after it fired."""
    try:
        fired = datetime.fromisoformat(str(det.get("fired_at")))
        return any(datetime.fromisoformat(str(e.get("published_at"))) > fired for e in det.get("evidence") or ())
    except (TypeError, ValueError):  # (no event of ours: its times are validated)
        return False


def _fired_first_seen(det: Mapping[str, Any]) -> bool:
    """events.fired_first_seen on a detection's JSON: its fired_at is the first-seen time of an undated report."""
    fired = det.get("fired_at")
    at = [bool(e.get("first_seen")) for e in det.get("evidence") or () if e.get("published_at") == fired]
    return bool(at) and all(at)
